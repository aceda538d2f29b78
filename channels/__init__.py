"""The assistant's own input channels for the Rasa server: WhatsApp through Twilio
(`channels.whatsapp.WhatsAppInput`) and Telegram (`channels.telegram.TelegramInput`).

Each is enabled by its section in the credentials file Rasa gets (scripts/stack.py writes it,
with only the channels whose environment settings are present); see docs/channels.md.
"""
