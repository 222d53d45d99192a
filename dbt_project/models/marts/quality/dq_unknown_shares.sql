-- Unknown shares per country x quarter x data set x indicator x dimension (DOMAIN.md §5 items 3
-- and 15; rule V09 warns above 30 %): the _U cell over the total cell of the same breakdown
-- (the indicator's other dimensions at total), for sex, age and citizenship.
-- Disclosure control (DOMAIN.md §6): a share, its unknown count and its total are shown only where
-- indicator_values_published shows both counts (citizenship: the unknown count is no flow there,
-- so where it is not small and the audit did not hide it); otherwise all three are null and
-- conf_status says why (A: the unknown count is small; D: a count it rests on is hidden; N: the
-- unknown count is detail of a small series, disclosure_withheld).
-- Known gap: TIP_PERSONS and SOM_PERSONS are always broken down by stage (SUSP / PROS / CONV,
-- no '_T' code), so their cells are never at total in every other dimension and get no row.

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

cells as (

    select
        country,
        dataset,
        period,
        indicator,
        obs_status,
        case when sex = '_Z' then '_T' else sex end as sex,
        case when age = '_Z' then '_T' else age end as age,
        case when exploitation_form = '_Z' then '_T' else exploitation_form end as exploitation_form,
        case when citizenship = '_Z' then '_T' else citizenship end as citizenship,
        case when identification_channel = '_Z' then '_T' else identification_channel end as identification_channel,
        case when unaccompanied = '_Z' then '_T' else unaccompanied end as unaccompanied,
        case when stage = '_Z' then '_T' else stage end as stage,
        case when counterpart_area = '_Z' then '_T' else counterpart_area end as counterpart_area,
        cast(value as double) as value
    from observations
    where value is not null

),

at_total as (

    select *
    from cells
    where exploitation_form = '_T'
        and identification_channel = '_T'
        and unaccompanied = '_T'
        and stage = '_T'
        and counterpart_area = '_T'

),

per_dimension as (

    {% for dimension in ['sex', 'age', 'citizenship'] %}
    select
        country,
        dataset,
        period,
        indicator,
        obs_status,
        '{{ dimension }}' as dimension,
        max(case when {{ dimension }} = '_U' then value end) as unknown,
        max(case when {{ dimension }} = '_T' then value end) as total
    from at_total
    where {% for other in ['sex', 'age', 'citizenship'] if other != dimension %}{{ other }} = '_T'{% if not loop.last %} and {% endif %}{% endfor %}
    group by
        country,
        dataset,
        period,
        indicator,
        obs_status
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

published as (

    select indicator_code, ref_area, time_period, sex, age, exploitation_form, conf_status
    from {{ ref('indicator_values_published') }}
    where freq = 'Q'

),

repairs as (

    select cell_id from {{ source('disclosure', 'repairs') }}

),

withheld as (

    select cell_id from {{ ref('disclosure_withheld') }}

),

statuses as (

    select
        per_dimension.*,
        case
            -- detail of a small series (disclosure_withheld): not even a "<5" flag
            when per_dimension.dimension <> 'citizenship' and unknown_cell.conf_status = 'N' then 'N'
            when per_dimension.dimension = 'citizenship'
                and 'FLOW|_U|' || per_dimension.country || '|' || per_dimension.period || '|_T|_T|_T'
                    in (select cell_id from withheld) then 'N'
            when per_dimension.unknown >= 1 and per_dimension.unknown < {{ disclosure_min_count() }} then 'A'
            when coalesce(total_cell.conf_status, 'D') <> 'F' then 'D'
            when per_dimension.dimension = 'citizenship' then
                case when 'FLOW|_U|' || per_dimension.country || '|' || per_dimension.period || '|_T|_T|_T'
                    in (select cell_id from repairs) then 'D' else 'F' end
            else coalesce(unknown_cell.conf_status, 'D')
        end as conf_status
    from per_dimension
    left join published as total_cell
        on total_cell.indicator_code = per_dimension.indicator
        and total_cell.ref_area = per_dimension.country
        and total_cell.time_period = per_dimension.period
        and total_cell.sex = '_T' and total_cell.age = '_T' and total_cell.exploitation_form = '_T'
    left join published as unknown_cell
        on unknown_cell.indicator_code = per_dimension.indicator
        and unknown_cell.ref_area = per_dimension.country
        and unknown_cell.time_period = per_dimension.period
        and unknown_cell.sex = case when per_dimension.dimension = 'sex' then '_U' else '_T' end
        and unknown_cell.age = case when per_dimension.dimension = 'age' then '_U' else '_T' end
        and unknown_cell.exploitation_form = '_T'

),

final as (

    select
        cast(country as varchar) as country,
        cast(dataset as varchar) as dataset,
        cast(period as varchar) as period,
        cast(indicator as varchar) as indicator,
        cast(dimension as varchar) as dimension,
        cast(case when conf_status = 'F' then unknown end as double) as unknown,
        cast(case when conf_status = 'F' then total end as double) as total,
        cast(case when conf_status = 'F' and total > 0 then unknown * 100.0 / total end as double)
            as unknown_share,
        cast(obs_status as varchar) as obs_status,
        cast(conf_status as varchar) as conf_status
    from statuses
    where unknown is not null
        and total is not null

)

select * from final
