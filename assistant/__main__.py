"""`python -m assistant …`"""

import sys

from .cli import main

if __name__ == "__main__":  # the app's build processes ("spawn") import this module again
    sys.exit(main())
