"""The bodies the API receives and answers, as Pydantic models: they validate what comes in (a wrong
type is a 422 problem document) and document every answer in the OpenAPI document."""
