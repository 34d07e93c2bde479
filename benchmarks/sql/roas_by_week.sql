-- /roas by=week and /roas trend: totals with iROAS, and one row per ISO week (plus "undated"
-- cost without a window), the first :top weeks in order.
--
-- Hand-written baseline for benchmarks/queries.py; one statement, run with
--   psql -X -q -A -t -v from=YYYY-MM-DD -v to=YYYY-MM-DD -v top=N -f roas_by_week.sql
--   (empty from/to: all data)
-- Output rows: kind|key|label|revenue|orders|cost|roas|iroas|posts, the 'total' row first.
-- Cost follows docs/metrics.md rules 1/2/3 exactly, each share in the week of its date: a rule 1
-- share in its tracking row's week, a rule 2 share in its post's week, an undivided payout in
-- its payout_date's week. Tracking is folded to one row per (influencer, brand, campaign,
-- week) before payouts are matched to it (see roas.sql for why).
WITH win AS (
    SELECT NULLIF(:'from', '')::date AS lo, NULLIF(:'to', '')::date AS hi
),
weekly AS (  -- attributed sales per group and week; in_w: the week's rows are in the window
    SELECT t.influencer_id, t.brand, t.campaign, date_trunc('week', t.date)::date AS week,
           (w.lo IS NULL OR t.date >= w.lo) AND (w.hi IS NULL OR t.date <= w.hi) AS in_w,
           sum(t.orders) AS orders, sum(t.revenue) AS revenue
    FROM tracking AS t CROSS JOIN win AS w
    WHERE t.influencer_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
),
sales AS (  -- all-time sums per group: what rules 1/2 spread over
    SELECT influencer_id, brand, campaign, sum(orders) AS orders_all, sum(revenue) AS revenue_all
    FROM weekly GROUP BY 1, 2, 3
),
post_weeks AS (
    SELECT p.influencer_id, date_trunc('week', p.date)::date AS week,
           (w.lo IS NULL OR p.date >= w.lo) AND (w.hi IS NULL OR p.date <= w.hi) AS in_w,
           count(*) AS posts
    FROM posts AS p CROSS JOIN win AS w
    GROUP BY 1, 2, 3
),
post_counts AS (
    SELECT influencer_id, sum(posts) AS posts_all FROM post_weeks GROUP BY influencer_id
),
eligible AS (  -- rule 3: a payout naming a brand/campaign only spreads over those rows
    SELECT pay.row_key, s.influencer_id, s.brand, s.campaign, s.orders_all, s.revenue_all
    FROM payouts AS pay
    JOIN sales AS s ON s.influencer_id = pay.influencer_id
     AND (pay.brand IS NULL OR lower(s.brand) = lower(pay.brand))
     AND (pay.campaign IS NULL OR lower(s.campaign) = lower(pay.campaign))
),
plan AS (
    SELECT pay.row_key, pay.influencer_id, pay.payout_date,
           pay.total_payout::float8 AS total,
           coalesce(e.orders_total, 0) AS orders_total,
           coalesce(pc.posts_all, 0) AS posts_total,
           CASE WHEN lower(pay.basis) IN ('order', 'orders', 'sale', 'sales', 'commission', 'cps')
                     AND coalesce(e.orders_total, 0) > 0 THEN 1
                WHEN coalesce(pc.posts_all, 0) > 0 THEN 2
                WHEN coalesce(e.orders_total, 0) > 0 THEN 1
                ELSE 0 END AS rule
    FROM payouts AS pay
    LEFT JOIN (SELECT row_key, sum(orders_all) AS orders_total FROM eligible GROUP BY row_key)
           AS e ON e.row_key = pay.row_key
    LEFT JOIN post_counts AS pc ON pc.influencer_id = pay.influencer_id
),
order_rates AS (  -- rule 1 folded per group: the cost of one of its orders
    SELECT e.influencer_id, e.brand, e.campaign, sum(p.total / p.orders_total) AS per_order
    FROM plan AS p JOIN eligible AS e ON e.row_key = p.row_key
    WHERE p.rule = 1
    GROUP BY 1, 2, 3
),
post_rates AS (  -- rule 2 per influencer: the cost of one of its posts, whatever its brand
    SELECT influencer_id, sum(total / posts_total) AS per_post
    FROM plan WHERE rule = 2 GROUP BY influencer_id
),
shares AS (
    SELECT w.week, w.orders * r.per_order AS cost
    FROM weekly AS w
    JOIN order_rates AS r ON r.influencer_id = w.influencer_id AND r.brand = w.brand
     AND r.campaign IS NOT DISTINCT FROM w.campaign
    WHERE w.in_w
    UNION ALL
    SELECT pw.week, pw.posts * r.per_post
    FROM post_weeks AS pw JOIN post_rates AS r ON r.influencer_id = pw.influencer_id
    WHERE pw.in_w
    UNION ALL
    -- nothing to spread over: the whole payout on its payout_date; undated only without a window
    SELECT date_trunc('week', p.payout_date)::date, p.total
    FROM plan AS p CROSS JOIN win AS w
    WHERE p.rule = 0
      AND (w.lo IS NULL OR p.payout_date >= w.lo) AND (w.hi IS NULL OR p.payout_date <= w.hi)
),
by_week AS (
    SELECT week, sum(revenue) AS revenue, sum(orders) AS orders, sum(cost) AS cost,
           sum(posts) AS posts
    FROM (SELECT week, revenue, orders, 0 AS cost, 0 AS posts FROM weekly WHERE in_w
          UNION ALL
          SELECT week, 0, 0, cost, 0 FROM shares
          UNION ALL
          SELECT week, 0, 0, 0, posts FROM post_weeks WHERE in_w) AS parts
    GROUP BY week
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
    FROM by_week
),
ranked AS (  -- the latest weeks first (rank 1: the newest); the undated cost always shown
    SELECT b.*, coalesce(to_char(b.week, 'IYYY-"W"IW'), 'undated') AS key,
           CASE WHEN b.week IS NULL THEN 0
                ELSE row_number() OVER (PARTITION BY b.week IS NULL ORDER BY b.week DESC) END
               AS rank
    FROM by_week AS b
)
SELECT 'total', '', '', t.revenue, t.orders, round(t.cost::numeric, 2),
       round((t.revenue / NULLIF(t.cost, 0))::numeric, 4),
       round((l.lift / NULLIF(t.cost, 0))::numeric, 4), t.posts
FROM totals AS t LEFT JOIN lift AS l ON true
UNION ALL
SELECT * FROM (
    SELECT 'row', r.key, CASE WHEN r.week IS NULL THEN 'Undated cost' ELSE r.key END,
           r.revenue, r.orders, round(r.cost::numeric, 2),
           round((r.revenue / NULLIF(r.cost, 0))::numeric, 4), NULL::numeric, r.posts
    FROM ranked AS r
    WHERE r.rank <= :top
    ORDER BY r.key  -- oldest first, "undated" last, as the answer shows them
) AS top_rows;
