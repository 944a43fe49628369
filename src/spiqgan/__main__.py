import sys

from spiqgan.cli import main

sys.exit(main())
