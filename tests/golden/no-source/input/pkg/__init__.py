from pkg import mod
