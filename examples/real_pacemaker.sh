#!/bin/sh
# A real recording end to end: the spontaneous pacemaker cell of shared/real (60 s at 2 kHz, 1.72 Hz;
# provenance in shared/real/README.md), fitted as a user would, with the README's spike rule. Writes
# the bundle, metrics.json, sweep.json and report.html to pacemaker-model/ (about 2 minutes on 2 cores).
#
#     sh examples/real_pacemaker.sh [path/to/sanpy_19114001.csv] [seed]
#
# Its noise (0.74 mV, 0.65 % of the spike height) switches the fit to the VAE's states
# (FitConfig.noisy_encoder); the fit prints that, and its free-running check.
set -e
CSV=${1:-../shared/real/sanpy_19114001.csv}
dynamap fit "$CSV" --spike-threshold -20 --seed "${2:-0}" --out pacemaker-model
echo "report: pacemaker-model/report.html"
