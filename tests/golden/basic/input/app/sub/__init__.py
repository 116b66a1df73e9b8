from .. import core
