-- One row per imported plan file (version), 1:1 with raw.plan_versions.

with

source as (

    select * from {{ source('plan', 'plan_versions') }}

),

renamed as (

    select
        cast(version as integer) as plan_version,
        cast(file_sha256 as varchar) as file_sha256,
        cast(original_name as varchar) as file_name,
        cast(imported_at as timestamptz) as imported_at,
        cast(imported_by as varchar) as imported_by,
        cast(illustrative as boolean) as is_illustrative,
        cast(status as varchar) as status,
        cast(n_rows as integer) as n_rows,
        cast(n_errors as integer) as n_errors,
        cast(n_warnings as integer) as n_warnings,
        cast(contract_version as varchar) as contract_version
    from source

)

select * from renamed
