-- Victims detected per country and quarter, as the parts of every victim indicator:
--   VIC_DETECTED            count by sex, by age and by exploitation form (one dimension at a time)
--   VIC_FEMALE_SHARE        F / (F + M + X)            (unknown sex left out of the denominator)
--   VIC_CHILD_SHARE         Y0T17 / (Y0T17 + Y_GE18)   (unknown age left out of the denominator)
--   VIC_SEX_UNKNOWN_SHARE   sex _U / _T
--   VIC_AGE_UNKNOWN_SHARE   age _U / _T
--   VIC_DETECTED            also by sex x age (the mandatory cross, main age groups, form _T)
--   VIC_PROFILE_SHARE       the four-way profile women / men / girls / boys (and other sex):
--                           cell (sex, age) / sum of the cells of known sex (F, M, X) and known
--                           age (Y0T17, Y_GE18), with sex and age both set; needs all six cells
--   VIC_PROFILE_UNKNOWN_SHARE  (_T - those six cells) / _T: victims of unknown sex or age
-- Numerator and denominator are kept apart so that rolling, annual and regional figures are
-- ratios of sums. value = numerator * multiplier / denominator (counts: the numerator).

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

-- the mandatory cells of VIC_DETECTED: at most one of sex, age, form broken down (the rest _T),
-- or the sex x age cross (main age groups, form _T), flagged as crossed
cells as (

    select
        country as ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        sex,
        age,
        exploitation_form,
        cast(value as double) as victims,
        sex <> '_T' and age <> '_T' as crossed
    from observations
    where dataset = 'TIP_VICTIMS'
        and indicator = 'VIC_DETECTED'
        and citizenship = '_T'
        and identification_channel = '_T'
        and value is not null
        and age in ('Y0T17', 'Y_GE18', '_U', '_T')
        and (
            (
                case when sex <> '_T' then 1 else 0 end
                + case when age <> '_T' then 1 else 0 end
                + case when exploitation_form <> '_T' then 1 else 0 end
            ) <= 1
            or (sex <> '_T' and age <> '_T' and exploitation_form = '_T')
        )

),

victim_cells as (

    select * from cells where not crossed

),

cross_cells as (

    select * from cells where crossed

),

-- victims of known sex and known age per country and quarter (six cells when all were sent)
known_profile as (

    select
        ref_area,
        period_index,
        count(*) as known_cells,
        sum(victims) as victims_known
    from cross_cells
    where sex <> '_U'
        and age <> '_U'
    group by
        ref_area,
        period_index

),

-- one row per country and quarter; null where a cell was not sent
victim_profile as (

    select
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        max(case when sex = '_T' and age = '_T' and exploitation_form = '_T' then victims end) as victims_total,
        max(case when sex = 'F' then victims end) as victims_female,
        max(case when sex = 'M' then victims end) as victims_male,
        max(case when sex = 'X' then victims end) as victims_other_sex,
        max(case when sex = '_U' then victims end) as victims_unknown_sex,
        max(case when age = 'Y0T17' then victims end) as victims_children,
        max(case when age = 'Y_GE18' then victims end) as victims_adults,
        max(case when age = '_U' then victims end) as victims_unknown_age
    from victim_cells
    group by
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status

),

counts as (

    select
        'VIC_DETECTED' as indicator_code,
        'PERSONS' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        sex,
        age,
        exploitation_form,
        victims as numerator,
        cast(null as double) as denominator,
        cast(1 as double) as multiplier,
        obs_status
    from cells

),

profile_shares as (

    select
        'VIC_PROFILE_SHARE' as indicator_code,
        'PERCENT' as unit,
        cross_cells.ref_area,
        cross_cells.period_year,
        cross_cells.period_quarter,
        cross_cells.period_index,
        cross_cells.sex,
        cross_cells.age,
        '_T' as exploitation_form,
        cross_cells.victims as numerator,
        known_profile.victims_known as denominator,
        cast(100 as double) as multiplier,
        cross_cells.obs_status
    from cross_cells
    inner join known_profile
        on known_profile.ref_area = cross_cells.ref_area
        and known_profile.period_index = cross_cells.period_index
    where cross_cells.sex <> '_U'
        and cross_cells.age <> '_U'
        and known_profile.known_cells = 6

    union all

    select
        'VIC_PROFILE_UNKNOWN_SHARE' as indicator_code,
        'PERCENT' as unit,
        victim_profile.ref_area,
        victim_profile.period_year,
        victim_profile.period_quarter,
        victim_profile.period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        victim_profile.victims_total - known_profile.victims_known as numerator,
        victim_profile.victims_total as denominator,
        cast(100 as double) as multiplier,
        victim_profile.obs_status
    from victim_profile
    inner join known_profile
        on known_profile.ref_area = victim_profile.ref_area
        and known_profile.period_index = victim_profile.period_index
    where known_profile.known_cells = 6
        and victim_profile.victims_total is not null

),

share_parts as (

    select
        'VIC_FEMALE_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        victims_female as numerator,
        victims_female + victims_male + victims_other_sex as denominator
    from victim_profile

    union all

    select
        'VIC_CHILD_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        victims_children as numerator,
        victims_children + victims_adults as denominator
    from victim_profile

    union all

    select
        'VIC_SEX_UNKNOWN_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        victims_unknown_sex as numerator,
        victims_total as denominator
    from victim_profile

    union all

    select
        'VIC_AGE_UNKNOWN_SHARE' as indicator_code,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        victims_unknown_age as numerator,
        victims_total as denominator
    from victim_profile

),

shares as (

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
        obs_status
    from share_parts
    -- every part present; a zero denominator is kept here (it still adds to R4Q and regional sums)
    where numerator is not null
        and denominator is not null

),

final as (

    select * from counts
    union all
    select * from shares
    union all
    select * from profile_shares

)

select * from final
