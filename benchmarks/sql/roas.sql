-- /roas (by=influencer): totals with iROAS, and the top 10 influencers by ROAS.
--
-- Hand-written baseline for benchmarks/queries.py; one statement, run with
--   psql -X -q -A -t -v from=YYYY-MM-DD -v to=YYYY-MM-DD -f roas.sql   (empty from/to: all data)
-- Output rows: kind|key|label|revenue|orders|cost|roas|iroas|posts, the 'total' row first.
-- Cost follows docs/metrics.md rules 1/2/3 exactly. Why it is fast: tracking is read once and
-- folded to one row per (influencer, brand, campaign) -- ~27k rows -- before any payout is
-- matched to "its" rows, so the case-insensitive brand/campaign test (rule 3) runs on that
-- small aggregate instead of on every tracking row of the influencer.
WITH win AS (
    SELECT NULLIF(:'from', '')::date AS lo, NULLIF(:'to', '')::date AS hi
),
sales AS (  -- attributed sales: all-time sums (rules 1/2 weights) and in-window sums
    SELECT t.influencer_id, t.brand, t.campaign,
           sum(t.orders) AS orders_all,
           sum(t.revenue) AS revenue_all,
           coalesce(sum(t.orders) FILTER (WHERE (w.lo IS NULL OR t.date >= w.lo)
                                            AND (w.hi IS NULL OR t.date <= w.hi)), 0) AS orders_w,
           coalesce(sum(t.revenue) FILTER (WHERE (w.lo IS NULL OR t.date >= w.lo)
                                             AND (w.hi IS NULL OR t.date <= w.hi)), 0) AS revenue_w
    FROM tracking AS t CROSS JOIN win AS w
    WHERE t.influencer_id IS NOT NULL
    GROUP BY t.influencer_id, t.brand, t.campaign
),
post_counts AS (
    SELECT p.influencer_id, count(*) AS posts_all,
           count(*) FILTER (WHERE (w.lo IS NULL OR p.date >= w.lo)
                              AND (w.hi IS NULL OR p.date <= w.hi)) AS posts_w
    FROM posts AS p CROSS JOIN win AS w
    GROUP BY p.influencer_id
),
eligible AS (  -- rule 3: a payout naming a brand/campaign only spreads over those rows
    SELECT pay.row_key, s.brand, s.orders_all, s.revenue_all, s.orders_w
    FROM payouts AS pay
    JOIN sales AS s ON s.influencer_id = pay.influencer_id
     AND (pay.brand IS NULL OR lower(s.brand) = lower(pay.brand))
     AND (pay.campaign IS NULL OR lower(s.campaign) = lower(pay.campaign))
),
plan AS (
    SELECT pay.row_key, pay.influencer_id, pay.brand, pay.payout_date,
           pay.total_payout::float8 AS total,
           coalesce(e.orders_total, 0) AS orders_total,
           coalesce(e.revenue_total, 0) AS revenue_total,
           coalesce(pc.posts_all, 0) AS posts_total,
           coalesce(pc.posts_w, 0) AS posts_w,
           CASE WHEN lower(pay.basis) IN ('order', 'orders', 'sale', 'sales', 'commission', 'cps')
                     AND coalesce(e.orders_total, 0) > 0 THEN 1
                WHEN coalesce(pc.posts_all, 0) > 0 THEN 2
                WHEN coalesce(e.orders_total, 0) > 0 THEN 1
                ELSE 0 END AS rule
    FROM payouts AS pay
    LEFT JOIN (SELECT row_key, sum(orders_all) AS orders_total, sum(revenue_all) AS revenue_total
               FROM eligible GROUP BY row_key) AS e ON e.row_key = pay.row_key
    LEFT JOIN post_counts AS pc ON pc.influencer_id = pay.influencer_id
),
shares AS (
    -- rule 1: over eligible rows in the window, by orders
    SELECT p.influencer_id, p.total * e.orders_w / p.orders_total AS cost
    FROM plan AS p JOIN eligible AS e ON e.row_key = p.row_key
    WHERE p.rule = 1 AND e.orders_w > 0
    UNION ALL
    -- rule 2: an equal share per post in the window (split by all-time revenue: the split
    -- moves cost between brands, never between influencers, so the influencer total is whole)
    SELECT p.influencer_id, p.total / p.posts_total * p.posts_w
    FROM plan AS p
    WHERE p.rule = 2 AND p.posts_w > 0
    UNION ALL
    -- nothing to spread over: the whole payout on its payout_date; undated only without a window
    SELECT p.influencer_id, p.total
    FROM plan AS p CROSS JOIN win AS w
    WHERE p.rule = 0
      AND (w.lo IS NULL OR p.payout_date >= w.lo) AND (w.hi IS NULL OR p.payout_date <= w.hi)
),
per_influencer AS (
    SELECT i.influencer_id, i.name,
           coalesce(r.revenue, 0) AS revenue, coalesce(r.orders, 0) AS orders,
           coalesce(c.cost, 0) AS cost, coalesce(pc.posts_w, 0) AS posts
    FROM influencers AS i
    LEFT JOIN (SELECT influencer_id, sum(revenue_w) AS revenue, sum(orders_w) AS orders
               FROM sales GROUP BY influencer_id) AS r ON r.influencer_id = i.influencer_id
    LEFT JOIN (SELECT influencer_id, sum(cost) AS cost FROM shares GROUP BY influencer_id) AS c
           ON c.influencer_id = i.influencer_id
    LEFT JOIN post_counts AS pc ON pc.influencer_id = i.influencer_id
),
lift_window AS (  -- the concrete window: without from/to, the first to the last date of data
    SELECT coalesce(w.lo, m.lo) AS lo, coalesce(w.hi, m.hi) AS hi
    FROM win AS w CROSS JOIN (SELECT min(date) AS lo, max(date) AS hi FROM tracking) AS m
),
pre AS (  -- each brand's days with rows in the 56 days before the window: organic revenue
    SELECT t.brand, t.date,
           coalesce(sum(t.revenue) FILTER (WHERE t.influencer_id IS NULL), 0) AS other
    FROM tracking AS t CROSS JOIN lift_window AS lw
    WHERE t.date >= lw.lo - 56 AND t.date < lw.lo
    GROUP BY t.brand, t.date
),
base AS (  -- brands with a baseline: rows on 28 of those days
    SELECT p.brand, avg(p.other) AS overall FROM pre AS p GROUP BY p.brand HAVING count(*) >= 28
),
by_weekday AS (
    SELECT p.brand, extract(isodow FROM p.date) AS dow, avg(p.other) AS mean
    FROM pre AS p GROUP BY p.brand, extract(isodow FROM p.date)
),
expected AS (  -- the weekday's mean for each day of the window
    SELECT b.brand, sum(coalesce(w.mean, b.overall)) AS expected
    FROM base AS b CROSS JOIN lift_window AS lw
    CROSS JOIN generate_series(lw.lo, lw.hi, interval '1 day') AS s(day)
    LEFT JOIN by_weekday AS w ON w.brand = b.brand AND w.dow = extract(isodow FROM s.day)
    GROUP BY b.brand
),
brand_lift AS (  -- all of a brand's revenue in the window, less what it would have sold anyway
    SELECT i.brand, i.everything - e.expected AS lift, i.attributed
    FROM (SELECT t.brand, sum(t.revenue) AS everything,
                 coalesce(sum(t.revenue) FILTER (WHERE t.influencer_id IS NOT NULL), 0)
                     AS attributed
          FROM tracking AS t CROSS JOIN lift_window AS lw
          WHERE t.date BETWEEN lw.lo AND lw.hi
          GROUP BY t.brand) AS i
    LEFT JOIN expected AS e ON e.brand = i.brand
),
lift AS (  -- all data: the lifts of the brands with attributed revenue, when each has a
           -- baseline (partial coverage divides by the covered brands' cost: not in this data,
           -- tests/test_metrics.py checks it)
    SELECT CASE WHEN count(*) FILTER (WHERE attributed > 0 AND lift IS NULL) = 0
                 AND count(*) FILTER (WHERE attributed > 0) > 0
                THEN sum(lift) FILTER (WHERE attributed > 0) END AS lift
    FROM brand_lift
),
totals AS (
    SELECT sum(revenue) AS revenue, sum(orders) AS orders, sum(cost) AS cost,
           sum(posts) AS posts
    FROM per_influencer
),
ranked AS (
    SELECT pi.*, pi.revenue::float8 / NULLIF(pi.cost, 0) AS roas,
           row_number() OVER (ORDER BY pi.revenue::float8 / NULLIF(pi.cost, 0) DESC NULLS LAST,
                                       pi.revenue DESC, pi.cost DESC, pi.influencer_id) AS rank
    FROM per_influencer AS pi
    WHERE pi.revenue > 0 OR pi.cost > 0 OR pi.posts > 0
)
SELECT 'total', '', '', t.revenue, t.orders, round(t.cost::numeric, 2),
       round((t.revenue / NULLIF(t.cost, 0))::numeric, 4),
       round((l.lift / NULLIF(t.cost, 0))::numeric, 4), t.posts
FROM totals AS t LEFT JOIN lift AS l ON true
UNION ALL
SELECT * FROM (
    SELECT 'row', r.influencer_id, r.name, r.revenue, r.orders, round(r.cost::numeric, 2),
           round(r.roas::numeric, 4),
           NULL::numeric,
           r.posts
    FROM ranked AS r LEFT JOIN lift AS l ON true
    WHERE r.rank <= 10
    ORDER BY r.rank
) AS top_rows;
