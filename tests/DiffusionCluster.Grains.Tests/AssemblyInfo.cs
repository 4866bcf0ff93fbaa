[assembly: CollectionBehavior(DisableTestParallelization = true)] // clusters share the machine's two cores
