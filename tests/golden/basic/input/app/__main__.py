from app import run

print(run())
