-- time_period follows freq in the published mart (what evaluators' scripts parse): a year
-- '2024' for A, a quarter '2024-Q2' for Q, four quarters ending in a quarter '2024-Q2-R4Q' for
-- R4Q. Returns the rows that break this.

select
    indicator_code,
    ref_area,
    time_period,
    freq
from {{ ref('indicator_values_published') }}
where not case freq
    when 'A' then regexp_full_match(time_period, '\d{4}')
    when 'Q' then regexp_full_match(time_period, '\d{4}-Q[1-4]')
    when 'R4Q' then regexp_full_match(time_period, '\d{4}-Q[1-4]-R4Q')
    else false
end
