#!/usr/bin/env python
"""Django's manage.py, for habit; ``telcodesk`` does the same and more."""

import sys

from telcodesk.cli import main

if __name__ == "__main__":
    main(sys.argv)
