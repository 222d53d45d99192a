-- Smuggled-migrant indicators per country and quarter (DOMAIN.md §5 item 11), as parts:
--   SOM_DETECTED            count by sex or by age (citizenship and unaccompanied total)
--   SOM_TIP_VICTIMS         count by sex or by age
--   SOM_DEATHS              count (total)
--   SOM_CHILD_SHARE         Y0T17 / (Y0T17 + Y_GE18)                      (unknown age excluded)
--   SOM_UNACC_CHILD_SHARE   children unaccompanied Y / (Y + N)           (unknown status excluded)
--   SOM_TIP_NEXUS_SHARE     SOM_TIP_VICTIMS / SOM_DETECTED (totals)
-- Dimensions a data set does not use arrive as _Z and count as the total here.

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

migrant_cells as (

    select
        country as ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        indicator,
        case when sex = '_Z' then '_T' else sex end as sex,
        case when age = '_Z' then '_T' else age end as age,
        case when citizenship = '_Z' then '_T' else citizenship end as citizenship,
        case when unaccompanied = '_Z' then '_T' else unaccompanied end as unaccompanied,
        cast(value as double) as persons
    from observations
    where dataset = 'SOM_MIGRANTS'
        and indicator in ('SOM_DETECTED', 'SOM_TIP_VICTIMS', 'SOM_DEATHS')
        and value is not null

),

counts as (

    select
        indicator as indicator_code,
        'PERSONS' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        sex,
        age,
        '_T' as exploitation_form,
        persons as numerator,
        cast(null as double) as denominator,
        cast(1 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from migrant_cells
    where citizenship = '_T'
        and unaccompanied = '_T'
        and age in ('Y0T17', 'Y_GE18', '_U', '_T')
        and (
            (indicator in ('SOM_DETECTED', 'SOM_TIP_VICTIMS')
                and (case when sex <> '_T' then 1 else 0 end + case when age <> '_T' then 1 else 0 end) <= 1)
            or (indicator = 'SOM_DEATHS' and sex = '_T' and age = '_T')
        )

),

profile as (

    select
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        max(case when indicator = 'SOM_DETECTED' and sex = '_T' and age = '_T' and citizenship = '_T' and unaccompanied = '_T' then persons end) as detected,
        max(case when indicator = 'SOM_DETECTED' and sex = '_T' and age = 'Y0T17' and citizenship = '_T' and unaccompanied = '_T' then persons end) as children,
        max(case when indicator = 'SOM_DETECTED' and sex = '_T' and age = 'Y_GE18' and citizenship = '_T' and unaccompanied = '_T' then persons end) as adults,
        max(case when indicator = 'SOM_DETECTED' and sex = '_T' and age = 'Y0T17' and citizenship = '_T' and unaccompanied = 'Y' then persons end) as children_unaccompanied,
        max(case when indicator = 'SOM_DETECTED' and sex = '_T' and age = 'Y0T17' and citizenship = '_T' and unaccompanied = 'N' then persons end) as children_accompanied,
        max(case when indicator = 'SOM_TIP_VICTIMS' and sex = '_T' and age = '_T' and citizenship = '_T' and unaccompanied = '_T' then persons end) as trafficking_victims
    from migrant_cells
    group by
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status

),

share_parts as (

    select
        'SOM_CHILD_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        children as numerator,
        children + adults as denominator
    from profile

    union all

    select
        'SOM_UNACC_CHILD_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        children_unaccompanied as numerator,
        children_unaccompanied + children_accompanied as denominator
    from profile

    union all

    select
        'SOM_TIP_NEXUS_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        trafficking_victims as numerator,
        detected as denominator
    from profile

),

final as (

    select * from counts

    union all

    select
        indicator_code,
        'PERCENT' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        numerator,
        denominator,
        cast(100 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from share_parts
    where numerator is not null
        and denominator is not null

)

select * from final
