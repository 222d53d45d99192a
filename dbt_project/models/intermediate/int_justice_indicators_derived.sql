-- Criminal-justice indicators per country and quarter (DOMAIN.md §5 items 7, 8, 11), as parts:
--   TIP_SUSPECTED / TIP_PROSECUTED / TIP_CONVICTED   TIP_PERSONS by stage, by sex or by age
--   SOM_PROSECUTED / SOM_CONVICTED                    SOM_PERSONS by stage, by sex
--   TIP_CONVICTED_FEMALE_SHARE    CONV F / (F + M + X)
--   TIP_CONVICTED_FOREIGN_SHARE   CONV (_T - own - _U) / (_T - _U), when own and _U cells were sent
--   TIP_CONVICTION_RATIO          CONV / PROS                       (R4Q and A only)
--   TIP_CONVICTED_PER_100_VIC     CONV / VIC_DETECTED x 100          (R4Q and A only)
--   SOM_CONVICTED_PER_1000_SOM    SOM CONV / SOM_DETECTED x 1000     (R4Q and A only)
-- Dimensions a data set does not use arrive as _Z and count as the total here.

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

person_cells as (

    select
        dataset,
        country as ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        indicator,
        stage,
        case when sex = '_Z' then '_T' else sex end as sex,
        case when age = '_Z' then '_T' else age end as age,
        case when citizenship = '_Z' then '_T' else citizenship end as citizenship,
        cast(value as double) as persons
    from observations
    where indicator in ('TIP_PERSONS', 'SOM_PERSONS')
        and stage in ('SUSP', 'PROS', 'CONV')
        and value is not null

),

coded_cells as (

    select
        *,
        case indicator || ':' || stage
            when 'TIP_PERSONS:SUSP' then 'TIP_SUSPECTED'
            when 'TIP_PERSONS:PROS' then 'TIP_PROSECUTED'
            when 'TIP_PERSONS:CONV' then 'TIP_CONVICTED'
            when 'SOM_PERSONS:PROS' then 'SOM_PROSECUTED'
            when 'SOM_PERSONS:CONV' then 'SOM_CONVICTED'
        end as indicator_code
    from person_cells

),

counts as (

    select
        indicator_code,
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
    from coded_cells
    where indicator_code is not null
        and citizenship = '_T'
        and age in ('Y0T17', 'Y_GE18', '_U', '_T')
        and (case when sex <> '_T' then 1 else 0 end + case when age <> '_T' then 1 else 0 end) <= 1

),

profile as (

    select
        dataset,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        max(case when stage = 'PROS' and sex = '_T' and age = '_T' and citizenship = '_T' then persons end) as prosecuted,
        max(case when stage = 'CONV' and sex = '_T' and age = '_T' and citizenship = '_T' then persons end) as convicted,
        max(case when stage = 'CONV' and sex = 'F' and age = '_T' and citizenship = '_T' then persons end) as convicted_female,
        max(case when stage = 'CONV' and sex = 'M' and age = '_T' and citizenship = '_T' then persons end) as convicted_male,
        max(case when stage = 'CONV' and sex = 'X' and age = '_T' and citizenship = '_T' then persons end) as convicted_other_sex,
        max(case when stage = 'CONV' and sex = '_T' and age = '_T' and citizenship = ref_area then persons end) as convicted_own,
        max(case when stage = 'CONV' and sex = '_T' and age = '_T' and citizenship = '_U' then persons end) as convicted_unknown_citizenship
    from coded_cells
    group by
        dataset,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status

),

detected as (

    select
        dataset,
        country as ref_area,
        period_index,
        obs_status,
        cast(value as double) as detected
    from observations
    where value is not null
        and (
            (dataset = 'TIP_VICTIMS' and indicator = 'VIC_DETECTED' and identification_channel in ('_T', '_Z'))
            or (dataset = 'SOM_MIGRANTS' and indicator = 'SOM_DETECTED' and unaccompanied in ('_T', '_Z'))
        )
        and sex in ('_T', '_Z')
        and age in ('_T', '_Z')
        and exploitation_form in ('_T', '_Z')
        and citizenship in ('_T', '_Z')

),

ratio_parts as (

    select
        'TIP_CONVICTED_FEMALE_SHARE' as indicator_code,
        'PERCENT' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        convicted_female as numerator,
        convicted_female + convicted_male + convicted_other_sex as denominator,
        cast(100 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from profile
    where dataset = 'TIP_JUSTICE'

    union all

    select
        'TIP_CONVICTED_FOREIGN_SHARE' as indicator_code,
        'PERCENT' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        convicted - convicted_own - convicted_unknown_citizenship as numerator,
        convicted - convicted_unknown_citizenship as denominator,
        cast(100 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from profile
    where dataset = 'TIP_JUSTICE'

    union all

    select
        'TIP_CONVICTION_RATIO' as indicator_code,
        'RATIO' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        convicted as numerator,
        prosecuted as denominator,
        cast(1 as double) as multiplier,
        obs_status,
        false as is_quarterly
    from profile
    where dataset = 'TIP_JUSTICE'

    union all

    select
        case profile.dataset
            when 'TIP_JUSTICE' then 'TIP_CONVICTED_PER_100_VIC'
            else 'SOM_CONVICTED_PER_1000_SOM'
        end as indicator_code,
        case profile.dataset when 'TIP_JUSTICE' then 'PER_100' else 'PER_1000' end as unit,
        profile.ref_area,
        profile.period_year,
        profile.period_quarter,
        profile.period_index,
        profile.convicted as numerator,
        detected.detected as denominator,
        cast(case profile.dataset when 'TIP_JUSTICE' then 100 else 1000 end as double) as multiplier,
        case when profile.obs_status = 'P' or detected.obs_status = 'P' then 'P' else 'A' end as obs_status,
        false as is_quarterly
    from profile
    inner join detected
        on detected.ref_area = profile.ref_area
        and detected.period_index = profile.period_index
        and detected.dataset = case profile.dataset
            when 'TIP_JUSTICE' then 'TIP_VICTIMS'
            else 'SOM_MIGRANTS'
        end

),

final as (

    select * from counts

    union all

    select
        indicator_code,
        unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        numerator,
        denominator,
        multiplier,
        obs_status,
        is_quarterly
    from ratio_parts
    -- every part present; a zero denominator is kept (it still adds to R4Q and regional sums)
    where numerator is not null
        and denominator is not null

)

select * from final
