-- The items of every validated policy unit, 1:1 with raw.policy_reports.

with

source as (

    select * from {{ source('policy', 'policy_reports') }}

),

renamed as (

    select
        cast(submission_id as varchar) as submission_id,
        cast(row_number as integer) as row_number,
        cast(dataset as varchar) as dataset,
        cast(country as varchar) as country,
        cast(period as varchar) as period,
        cast(period as integer) as period_year,
        cast(item as varchar) as item,
        cast(status as varchar) as status,
        cast(reference as varchar) as reference,
        cast(item_date as date) as item_date,
        cast(valid_until as date) as valid_until,
        cast(comment as varchar) as comment
    from source

)

select * from renamed
