-- UNODC's annual official figures (GLOTIP) as the coalition's history: one row per published
-- value of every vintage (source = UNODC, period = calendar year). is_latest_vintage marks the
-- newest import; older vintages stay queryable. Nothing here is a member's submission.
-- A value 'suppressed at source' ('<5', a count from 1 to 4) has value null: no number is invented.

with

releases as (

    select * from {{ ref('stg_unodc__glotip_releases') }}

),

glotip as (

    select * from {{ ref('stg_unodc__glotip_values') }}

),

latest as (

    select max(vintage) as vintage
    from releases

),

final as (

    select
        releases.source,
        glotip.vintage,
        glotip.vintage = latest.vintage as is_latest_vintage,
        glotip.indicator_code,
        glotip.stage,
        glotip.ref_area,
        glotip.year,
        cast(glotip.year as varchar) as time_period,
        'A' as freq,
        glotip.breakdown,
        glotip.sex,
        glotip.age,
        glotip.exploitation_form,
        glotip.citizenship,
        glotip.counterpart_area,
        glotip.value,
        glotip.value_text,
        glotip.suppressed_at_source,
        glotip.flag,
        glotip.flag_detail,
        glotip.category_mapping,
        glotip.indicator_label,
        glotip.dimension_label,
        glotip.category_label,
        glotip.sex_label,
        glotip.age_label,
        glotip.row_number,
        releases.file_name,
        releases.imported_at
    from glotip
    inner join releases
        on releases.vintage = glotip.vintage
    cross join latest

)

select * from final
