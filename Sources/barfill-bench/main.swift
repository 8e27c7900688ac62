import BarfillCore
print("barfill-bench: no benchmarks yet")
