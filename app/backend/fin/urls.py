from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/", views.index, name="index"),
    path("api/v1/tasks/<uuid:task_id>/", views.task_status, name="task-status"),
    path("api/v1/tasks/<str:queue>/", views.send_task, name="task-send"),
]

handler404 = "fin.views.not_found"
handler500 = "fin.views.server_error"
