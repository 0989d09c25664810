# Models arrive with the domain issue; they will subclass glamiti.models.TenantModel.
