-- Unknown shares per country x quarter x data set x indicator x dimension (DOMAIN.md §5 items 3
-- and 15; rule V09 warns above 30 %): the _U cell over the total cell of the same breakdown
-- (the indicator's other dimensions at total), for sex, age and citizenship.
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

final as (

    select
        cast(country as varchar) as country,
        cast(dataset as varchar) as dataset,
        cast(period as varchar) as period,
        cast(indicator as varchar) as indicator,
        cast(dimension as varchar) as dimension,
        cast(unknown as double) as unknown,
        cast(total as double) as total,
        cast(case when total > 0 then unknown * 100.0 / total end as double) as unknown_share,
        cast(obs_status as varchar) as obs_status
    from per_dimension
    where unknown is not null
        and total is not null

)

select * from final
