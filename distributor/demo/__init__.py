"""Demo stories shipped with Distributor (our own writing; used by ``serve --demo``)."""
