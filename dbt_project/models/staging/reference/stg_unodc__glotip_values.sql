-- Every GLOTIP row of every vintage, 1:1 with raw.glotip_values (codes from
-- data_contracts/glotip_mappings.yaml; null where a label did not map).

with

source as (

    select * from {{ source('unodc', 'glotip_values') }}

),

renamed as (

    select
        cast(vintage as integer) as vintage,
        cast(row_number as integer) as row_number,
        cast(ref_area as varchar) as ref_area,
        cast(indicator_code as varchar) as indicator_code,
        cast(stage as varchar) as stage,
        cast(breakdown as varchar) as breakdown,
        cast(sex as varchar) as sex,
        cast(age as varchar) as age,
        cast(exploitation_form as varchar) as exploitation_form,
        cast(citizenship as varchar) as citizenship,
        cast(counterpart_area as varchar) as counterpart_area,
        cast(year as integer) as year,
        cast(value as bigint) as value,
        cast(value_text as varchar) as value_text,
        cast(suppressed_at_source as boolean) as suppressed_at_source,
        cast(flag as varchar) as flag,
        cast(flag_detail as varchar) as flag_detail,
        cast(category_mapping as varchar) as category_mapping,
        cast(indicator_label as varchar) as indicator_label,
        cast(dimension_label as varchar) as dimension_label,
        cast(category_label as varchar) as category_label,
        cast(sex_label as varchar) as sex_label,
        cast(age_label as varchar) as age_label
    from source

)

select * from renamed
