"""Lets ``python -m retro_gamer`` run the command line."""

from retro_gamer.cli import main

raise SystemExit(main())
