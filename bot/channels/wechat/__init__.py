"""The WeChat Official Account (服务号) channel."""
