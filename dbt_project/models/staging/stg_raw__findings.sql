with

source as (

    select * from {{ source('raw', 'findings') }}

),

renamed as (

    select
        finding_id,
        file_sha256,
        submission_id,
        file_name,
        sheet,
        row_number,
        column_name,
        value as value_found,
        rule,
        severity,
        message_es,
        message_en
    from source

)

select * from renamed
