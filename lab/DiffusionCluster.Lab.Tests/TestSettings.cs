[assembly: CollectionBehavior(DisableTestParallelization = true)] // networks initialise from torch's global RNG
