{#
    Put models in the schema named in their config (staging, intermediate, marts) as is,
    instead of dbt's default "<target schema>_<custom schema>" (main_staging, ...).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
