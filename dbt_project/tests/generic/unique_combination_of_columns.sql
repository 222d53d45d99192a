{#
    The rows of a model are unique over a combination of columns (a multi-column primary key).
    A small stand-in for dbt_utils.unique_combination_of_columns, which cannot be installed here.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as n_rows
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
