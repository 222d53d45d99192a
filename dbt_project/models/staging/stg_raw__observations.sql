with

source as (

    select * from {{ source('raw', 'observations') }}

),

renamed as (

    select
        submission_id,
        sheet,
        row_number,
        dataset,
        country,
        period,
        indicator,
        sex,
        age,
        exploitation_form,
        citizenship,
        counterpart_area,
        stage,
        identification_channel,
        unaccompanied,
        cast(value as bigint) as value,
        -- L not collected / M cannot exist, when value is blank (not the unit's A/P status)
        obs_status as value_status,
        comment
    from source

)

select * from renamed
