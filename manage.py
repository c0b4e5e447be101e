#!/usr/bin/env python
"""Django's command-line utility for the archive."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        # The demo runs on a fresh checkout with nothing set: it alone may fall
        # back to development settings. Production never takes this path.
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
