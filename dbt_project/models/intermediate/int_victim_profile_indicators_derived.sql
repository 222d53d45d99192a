-- Victim indicators beyond int_victim_indicators_derived, per country and quarter, as parts
-- (DOMAIN.md §5 items 4, 5, 9, 10):
--   VIC_FORM_SHARE                 form / (_T - form _U), per exploitation form
--   VIC_DOMESTIC_SHARE             own citizens / (_T - citizenship _U)
--   VIC_FOREIGN_SHARE              (_T - own - _U) / (_T - _U)
--   VIC_INTRAREG_SHARE             citizens of other members / foreign victims, only when the
--                                  foreign victims are broken down by citizenship completely
--   VIC_CITIZENSHIP_UNKNOWN_SHARE  citizenship _U / _T
--   VIC_SELF_ID_SHARE              channel SELF / (channel _T - _U)
--   VIC_ASSISTED, VIC_REPATRIATED  counts (VIC_ASSISTED also by sex)
--   VIC_ASSISTED_PER_VICTIM        VIC_ASSISTED / VIC_DETECTED (R4Q and A only)

with

observations as (

    select * from {{ ref('int_observations_current') }}

),

countries as (

    select * from {{ ref('countries') }}

),

victim_cells as (

    select
        observations.country as ref_area,
        observations.period_year,
        observations.period_quarter,
        observations.period_index,
        observations.obs_status,
        observations.indicator,
        observations.sex,
        observations.age,
        observations.exploitation_form,
        observations.citizenship,
        case when observations.identification_channel = '_Z' then '_T' else observations.identification_channel end as identification_channel,
        case when observations.counterpart_area = '_Z' then '_T' else observations.counterpart_area end as counterpart_area,
        coalesce(countries.member, false) as citizenship_is_member,
        cast(observations.value as double) as persons
    from observations
    left join countries
        on countries.iso3 = observations.citizenship
    where observations.dataset = 'TIP_VICTIMS'
        and observations.value is not null

),

profile as (

    select
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status,
        max(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship = '_T' and identification_channel = '_T' then persons end) as victims,
        max(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_U' and citizenship = '_T' and identification_channel = '_T' then persons end) as victims_unknown_form,
        max(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship = ref_area and identification_channel = '_T' then persons end) as victims_own,
        max(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship = '_U' and identification_channel = '_T' then persons end) as victims_unknown_citizenship,
        sum(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship not in ('_T', '_U', ref_area) and identification_channel = '_T' then persons else 0 end) as victims_foreign_itemised,
        sum(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship not in ('_T', '_U', ref_area) and citizenship_is_member and identification_channel = '_T' then persons else 0 end) as victims_other_members,
        max(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship = '_T' and identification_channel = 'SELF' then persons end) as victims_self_identified,
        max(case when indicator = 'VIC_DETECTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship = '_T' and identification_channel = '_U' then persons end) as victims_unknown_channel,
        max(case when indicator = 'VIC_ASSISTED' and sex = '_T' and age = '_T' and exploitation_form = '_T' and citizenship = '_T' and identification_channel = '_T' then persons end) as victims_assisted
    from victim_cells
    group by
        ref_area,
        period_year,
        period_quarter,
        period_index,
        obs_status

),

form_shares as (

    select
        'VIC_FORM_SHARE' as indicator_code,
        'PERCENT' as unit,
        forms.ref_area,
        forms.period_year,
        forms.period_quarter,
        forms.period_index,
        '_T' as sex,
        '_T' as age,
        forms.exploitation_form,
        forms.persons as numerator,
        profile.victims - profile.victims_unknown_form as denominator,
        cast(100 as double) as multiplier,
        forms.obs_status,
        true as is_quarterly
    from victim_cells as forms
    inner join profile
        on profile.ref_area = forms.ref_area
        and profile.period_index = forms.period_index
    where forms.indicator = 'VIC_DETECTED'
        and forms.sex = '_T'
        and forms.age = '_T'
        and forms.citizenship = '_T'
        and forms.identification_channel = '_T'
        and forms.exploitation_form not in ('_T', '_U', '_Z')
        and profile.victims is not null
        and profile.victims_unknown_form is not null

),

share_parts as (

    select
        'VIC_DOMESTIC_SHARE' as indicator_code,
        ref_area, period_year, period_quarter, period_index, obs_status,
        victims_own as numerator,
        victims - victims_unknown_citizenship as denominator
    from profile

    union all

    select
        'VIC_FOREIGN_SHARE' as indicator_code,
        ref_area, period_year, period_quarter, period_index, obs_status,
        victims - victims_own - victims_unknown_citizenship as numerator,
        victims - victims_unknown_citizenship as denominator
    from profile

    union all

    select
        'VIC_INTRAREG_SHARE' as indicator_code,
        ref_area, period_year, period_quarter, period_index, obs_status,
        victims_other_members as numerator,
        victims - victims_own - victims_unknown_citizenship as denominator
    from profile
    -- only when every foreign victim is itemised by citizenship
    where victims_foreign_itemised = victims - victims_own - victims_unknown_citizenship

    union all

    select
        'VIC_CITIZENSHIP_UNKNOWN_SHARE' as indicator_code,
        ref_area, period_year, period_quarter, period_index, obs_status,
        victims_unknown_citizenship as numerator,
        victims as denominator
    from profile

    union all

    select
        'VIC_SELF_ID_SHARE' as indicator_code,
        ref_area, period_year, period_quarter, period_index, obs_status,
        victims_self_identified as numerator,
        victims - victims_unknown_channel as denominator
    from profile

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
        obs_status,
        true as is_quarterly
    from share_parts
    where numerator is not null
        and denominator is not null

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
        '_T' as age,
        '_T' as exploitation_form,
        persons as numerator,
        cast(null as double) as denominator,
        cast(1 as double) as multiplier,
        obs_status,
        true as is_quarterly
    from victim_cells
    where (
            indicator = 'VIC_ASSISTED'
            and age = '_T'
            and exploitation_form = '_T'
            and citizenship = '_T'
            and identification_channel = '_T'
        )
        or (
            indicator = 'VIC_REPATRIATED'
            and sex = '_T'
            and age = '_T'
            and counterpart_area = '_T'
        )

),

assisted_per_victim as (

    select
        'VIC_ASSISTED_PER_VICTIM' as indicator_code,
        'RATIO' as unit,
        ref_area,
        period_year,
        period_quarter,
        period_index,
        '_T' as sex,
        '_T' as age,
        '_T' as exploitation_form,
        victims_assisted as numerator,
        victims as denominator,
        cast(1 as double) as multiplier,
        obs_status,
        false as is_quarterly
    from profile
    where victims_assisted is not null
        and victims is not null

),

final as (

    select * from form_shares
    union all
    select * from shares
    union all
    select * from counts
    union all
    select * from assisted_per_victim

)

select * from final
