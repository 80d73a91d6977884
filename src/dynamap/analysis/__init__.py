"""Analysis of orbits of flows and maps: spikes, regimes, sweeps, Lyapunov spectra, metrics."""
