-- Victims detected per country and quarter, as the parts of every victim indicator:
--   VIC_DETECTED            count by sex, by age and by exploitation form (one dimension at a time)
--   VIC_FEMALE_SHARE        F / (F + M + X)            (unknown sex left out of the denominator)
--   VIC_CHILD_SHARE         Y0T17 / (Y0T17 + Y_GE18)   (unknown age left out of the denominator)
--   VIC_SEX_UNKNOWN_SHARE   sex _U / _T
--   VIC_AGE_UNKNOWN_SHARE   age _U / _T
-- Numerator and denominator are kept apart so that rolling, annual and regional figures are
-- ratios of sums. value = numerator * multiplier / denominator (counts: the numerator).

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

-- the mandatory cells of VIC_DETECTED: at most one of sex, age, form broken down, the rest _T
victim_cells as (

    select
        country as ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        sex,
        age,
        exploitation_form,
        cast(value as double) as victims
    from observations
    where dataset = 'TIP_VICTIMS'
        and indicator = 'VIC_DETECTED'
        and citizenship = '_T'
        and identification_channel = '_T'
        and value is not null
        and age in ('Y0T17', 'Y_GE18', '_U', '_T')
        and (
            case when sex <> '_T' then 1 else 0 end
            + case when age <> '_T' then 1 else 0 end
            + case when exploitation_form <> '_T' then 1 else 0 end
        ) <= 1

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
    from victim_cells

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

)

select * from final
