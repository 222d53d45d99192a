with

source as (

    select * from {{ source('raw', 'audit_events') }}

),

renamed as (

    select
        event_id,
        occurred_at,
        actor,
        action,
        file_sha256,
        submission_id,
        from_status,
        to_status,
        reason,
        details
    from source

)

select * from renamed
