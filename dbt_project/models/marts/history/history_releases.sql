-- The imported vintages of the reference data (UNODC GLOTIP): when, from which file, how many
-- rows, and what changed against the previous vintage (JSON), newest first in the dashboard.

with

releases as (

    select * from {{ ref('stg_unodc__glotip_releases') }}

),

final as (

    select
        source,
        vintage,
        vintage = max(vintage) over () as is_latest_vintage,
        file_name,
        file_sha256,
        imported_at,
        imported_by,
        rows_read,
        rows_imported,
        rows_suppressed,
        labels_unmapped,
        values_flagged,
        previous_vintage,
        changes
    from releases

)

select * from final
