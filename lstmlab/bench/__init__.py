"""`lstmlab bench`: training throughput of lstmlab against the implementations a user might pick instead."""
