"""The MPI bridge: the ABI table, its generator, the C callbacks, their build and loader."""
