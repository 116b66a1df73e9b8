import sys

from mygame import main

sys.exit(main(sys.argv[1:]))
