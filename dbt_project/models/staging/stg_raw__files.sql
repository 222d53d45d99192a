with

source as (

    select * from {{ source('raw', 'files') }}

),

renamed as (

    select
        file_sha256,
        original_name as file_name,
        cast(size_bytes as bigint) as size_bytes,
        received_at,
        stated_received_on,
        channel,
        submitted_by,
        archive_path
    from source

)

select * from renamed
