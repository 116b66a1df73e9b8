def test():
    assert False
