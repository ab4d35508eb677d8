import sys

from neurocl.cli import main

sys.exit(main())
