"""`python -m glasskernel`: the same shell as the `glasskernel` command."""
import sys

from .shell import main

sys.exit(main())
