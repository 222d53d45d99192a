-- One row per imported GLOTIP file (vintage), 1:1 with raw.glotip_releases.

with

source as (

    select * from {{ source('unodc', 'glotip_releases') }}

),

renamed as (

    select
        cast(vintage as integer) as vintage,
        cast(source as varchar) as source,
        cast(file_sha256 as varchar) as file_sha256,
        cast(original_name as varchar) as file_name,
        cast(imported_at as timestamptz) as imported_at,
        cast(imported_by as varchar) as imported_by,
        cast(rows_read as integer) as rows_read,
        cast(rows_imported as integer) as rows_imported,
        cast(rows_suppressed as integer) as rows_suppressed,
        cast(labels_unmapped as integer) as labels_unmapped,
        cast(values_flagged as integer) as values_flagged,
        cast(previous_vintage as integer) as previous_vintage,
        cast(changes as varchar) as changes
    from source

)

select * from renamed
