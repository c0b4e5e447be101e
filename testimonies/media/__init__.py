"""Media: recordings checked at the door, kept private, heard only as public renditions.

``probe`` reads what a file is, ``render`` makes a rendition (silences,
disguise, no metadata), ``disguise`` transforms a voice, ``storage`` keeps the
files apart, ``names`` names them and their places (light enough for the
models), ``commits`` takes back a file whose rows were rolled back.
"""
