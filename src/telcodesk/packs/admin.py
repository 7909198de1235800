from django.contrib import admin

from telcodesk.core.admin import ReadOnlyAdmin
from telcodesk.packs.models import LoadedPack


@admin.register(LoadedPack)
class LoadedPackAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "title", "loaded_at", "checksum"]
