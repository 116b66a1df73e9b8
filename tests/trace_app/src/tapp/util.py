import base64


def twice(n):
    return len(base64.b16encode(bytes(n)))
