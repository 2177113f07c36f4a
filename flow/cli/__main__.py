"""``python -m signflow.cli`` (e.g. under torchrun): the signflow command."""
import sys

from signflow.cli import main

sys.exit(main())
