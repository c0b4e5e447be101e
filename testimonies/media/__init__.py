"""Media: recordings checked at the door, kept private, heard only as public renditions.

``probe`` reads what a file is, ``render`` makes a rendition (silences,
disguise, no metadata), ``disguise`` transforms a voice, ``storage`` keeps the
files apart and names them.
"""
