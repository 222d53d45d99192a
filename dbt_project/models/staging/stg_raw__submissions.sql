with

source as (

    select * from {{ source('raw', 'submissions') }}

),

renamed as (

    select
        submission_id,
        file_sha256,
        dataset,
        country,
        period,
        cast(version as integer) as version,
        status as intake_status,
        received_at,
        received_on,
        due_on,
        is_late,
        n_rows,
        n_errors,
        n_warnings,
        contract_version
    from source

)

select * from renamed
