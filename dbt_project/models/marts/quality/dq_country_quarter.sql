-- Data quality per member x quarter (DOMAIN.md §5 item 15): one row for every member and every
-- expected quarter (int_units_expected_reported: the first to the last quarter any usable unit
-- covers), reported or not, with
--   * reporting: expected data sets (var expected_datasets), how many have a usable version and
--     how many arrived on time; reporting_status complete | partial | none;
--   * validation findings (ERROR, WARNING) of the versions the indicators use;
--   * the largest unknown share (dq_unknown_shares: sex, age, citizenship, any data set);
--   * the member's quarterly cells in indicator_values_published and how many are suppressed
--     (conf_status A or D);
--   * quality_score, 0-100: 0 when nothing was reported, else 100 minus up to 20 points for each
--     of five shortfalls:
--       20 x missing data sets / expected       20 x data sets not on time / expected
--       20 x min(findings, 5) / 5               20 x largest unknown share / 100
--       20 x suppressed cells / published cells
--     (an unknown share counts at most 100 %), rounded to one decimal.

with

expected as (

    select * from {{ ref('int_units_expected_reported') }}

),

findings as (

    select * from {{ ref('dq_submission_findings') }}

),

unknown_shares as (

    select * from {{ ref('dq_unknown_shares') }}

),

published as (

    select * from {{ ref('indicator_values_published') }}

),

reporting as (

    select
        expected.country,
        expected.period,
        expected.period_year,
        expected.period_quarter,
        count(*) as datasets_expected,
        count(*) filter (where expected.is_reported) as datasets_reported,
        count(*) filter (where expected.is_on_time) as datasets_on_time
    from expected
    group by
        expected.country,
        expected.period,
        expected.period_year,
        expected.period_quarter

),

used_findings as (

    select
        expected.country,
        expected.period,
        sum(case when findings.severity = 'ERROR' then findings.n_findings else 0 end) as n_errors,
        sum(case when findings.severity = 'WARNING' then findings.n_findings else 0 end) as n_warnings
    from expected
    inner join findings
        on findings.submission_id = expected.selected_submission_id
    group by
        expected.country,
        expected.period

),

largest_unknown as (

    select
        country,
        period,
        max(unknown_share) as max_unknown_share
    from unknown_shares
    group by
        country,
        period

),

cells as (

    select
        ref_area as country,
        time_period as period,
        count(*) as cells_published,
        count(*) filter (where conf_status <> 'F') as cells_suppressed
    from published
    where freq = 'Q'
        and ref_area <> 'REG'
    group by
        ref_area,
        time_period

),

joined as (

    select
        reporting.country,
        reporting.period,
        reporting.period_year,
        reporting.period_quarter,
        reporting.datasets_expected,
        reporting.datasets_reported,
        reporting.datasets_on_time,
        case
            when reporting.datasets_reported = reporting.datasets_expected then 'complete'
            when reporting.datasets_reported > 0 then 'partial'
            else 'none'
        end as reporting_status,
        coalesce(used_findings.n_errors, 0) as n_errors,
        coalesce(used_findings.n_warnings, 0) as n_warnings,
        largest_unknown.max_unknown_share,
        coalesce(cells.cells_published, 0) as cells_published,
        coalesce(cells.cells_suppressed, 0) as cells_suppressed
    from reporting
    left join used_findings
        on used_findings.country = reporting.country
        and used_findings.period = reporting.period
    left join largest_unknown
        on largest_unknown.country = reporting.country
        and largest_unknown.period = reporting.period
    left join cells
        on cells.country = reporting.country
        and cells.period = reporting.period

),

final as (

    select
        cast(country as varchar) as country,
        cast(period as varchar) as period,
        cast(period_year as integer) as period_year,
        cast(period_quarter as integer) as period_quarter,
        cast(datasets_expected as integer) as datasets_expected,
        cast(datasets_reported as integer) as datasets_reported,
        cast(datasets_on_time as integer) as datasets_on_time,
        cast(reporting_status as varchar) as reporting_status,
        cast(n_errors as integer) as n_errors,
        cast(n_warnings as integer) as n_warnings,
        cast(max_unknown_share as double) as max_unknown_share,
        cast(cells_published as integer) as cells_published,
        cast(cells_suppressed as integer) as cells_suppressed,
        cast(case when cells_published > 0 then cells_suppressed * 100.0 / cells_published end as double) as suppressed_share,
        cast(
            case
                when datasets_reported = 0 then 0
                else round(
                    100 - 20 * (
                        (datasets_expected - datasets_reported) / datasets_expected
                        + (datasets_expected - datasets_on_time) / datasets_expected
                        + least(n_errors + n_warnings, 5) / 5
                        + least(coalesce(max_unknown_share, 0), 100) / 100
                        + case when cells_published > 0 then cells_suppressed / cells_published else 0 end
                    ),
                    1
                )
            end
            as double
        ) as quality_score
    from joined

)

select * from final
