-- is_complete_year is set on every annual row and only there, and on an annual row it agrees with
-- obs_status: a year is complete exactly when every quarter it rests on is accepted (A), an
-- incomplete year is provisional (P). Returns the rows that break this.

select
    indicator_code,
    ref_area,
    time_period,
    freq,
    obs_status,
    is_complete_year
from {{ ref('indicator_values') }}
where (freq = 'A') <> (is_complete_year is not null)
    or (freq = 'A' and is_complete_year <> (obs_status = 'A'))
