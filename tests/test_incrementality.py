"""The incremental-revenue estimator against generated data whose truth is known: a small,
fixed-seed version of benchmarks/incrementality.py (whose full figures are in
docs/benchmarks.md). The generator's own truth is checked too."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from benchmarks.incrementality import EFFECTS, dataset
from sample_data.generator import Demand, simulate

DAY = dt.date(2026, 11, 29)


def test_without_a_festival_the_interval_covers_the_truth_and_the_estimate_is_unbiased():
    outcomes = [o for i in range(16) for o in dataset(5000 + i, EFFECTS[i % 4], "none")]
    covered = np.mean([o.low <= o.truth <= o.high for o in outcomes])
    bias = np.mean([(o.estimate - o.truth) / o.counterfactual for o in outcomes])
    assert covered >= 0.8, covered
    assert abs(bias) < 0.01, bias


def test_a_festival_in_the_window_is_what_no_baseline_can_tell_from_influencers():
    outcomes = dataset(5100, 0.0, "window")
    assert all(o.estimate > o.truth for o in outcomes)  # said in docs/benchmarks.md


def test_a_control_that_shares_the_festival_takes_it_out():
    outcomes = [o for i in range(4) for o in dataset(5200 + i, 0.0, "window", control=True)]
    covered = np.mean([o.low <= o.truth <= o.high for o in outcomes])
    bias = np.mean([(o.estimate - o.truth) / o.counterfactual for o in outcomes])
    assert covered >= 0.75, covered  # 0% without the control (the test above)
    assert abs(bias) < 0.02, bias  # +11% without it


def test_the_truth_is_the_attributed_revenue_less_what_it_displaced():
    everything = simulate(end_date=DAY, seed=3)
    tracking = everything.frames["tracking_data"]
    attributed = tracking.loc[tracking["source"] == "influencer", "revenue"].sum()
    assert everything.truth["incremental_revenue"].sum() == pytest.approx(attributed, abs=1)
    # No order incremental: each displaces one the brand would have had (with organic demand
    # large enough to take them all, as in the benchmark), so nothing was added.
    launch = DAY - dt.timedelta(days=27)
    demand = Demand(incremental_share=0.0, baseline_scale=6, campaign_start=launch)
    none = simulate(end_date=DAY, seed=3, demand=demand)
    coded = none.frames["tracking_data"]
    made = coded.loc[coded["source"] == "influencer", "revenue"].sum()
    assert abs(none.truth["incremental_revenue"].sum()) < 0.05 * made
